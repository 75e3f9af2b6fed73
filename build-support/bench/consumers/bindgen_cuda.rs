//! build.rs of the benchmark's scratch consumer crate for bindgen_cuda (copied by benches/build/).
//! Set up as candle-kernels 0.9 uses it: build_ptx() over the .cu files, the .cuh files as
//! include_paths (bindgen_cuda prints rerun-if-changed for them), extra args from BENCH_FLAGS.
use std::env;
use std::path::PathBuf;

fn main() {
    if let Ok(file) = env::var("BENCH_CAPTURE") {
        capture(&file);
        return;
    }
    let mode = env::var("BENCH_MODE").unwrap_or_default();
    if mode.is_empty() {
        std::hint::black_box(bindgen_cuda::Builder::default as fn() -> bindgen_cuda::Builder);
        return;
    }
    assert_eq!(mode, "ptx", "bindgen_cuda is benchmarked in PTX mode only");
    let dir = PathBuf::from(env::var("BENCH_KERNELS").expect("BENCH_KERNELS"));
    let (kernels, headers) = sources(&dir);
    let mut b = bindgen_cuda::Builder::default().kernel_paths(kernels).include_paths(headers);
    for f in env::var("BENCH_FLAGS").unwrap_or_default().split_whitespace() {
        // bindgen_cuda takes &'static str: leak the few flags (a build script, run once).
        b = b.arg(Box::leak(f.to_owned().into_boxed_str()));
    }
    let bindings = b.build_ptx().unwrap();
    bindings.write(PathBuf::from(env::var("OUT_DIR").unwrap()).join("kernels.rs")).unwrap();
}

fn sources(dir: &std::path::Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut cu = Vec::new();
    let mut cuh = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        match p.extension().and_then(|e| e.to_str()) {
            Some("cu") => cu.push(p),
            Some("cuh") => cuh.push(p),
            _ => {}
        }
    }
    cu.sort();
    cuh.sort();
    (cu, cuh)
}

fn capture(file: &str) {
    let mut text = format!("EXE={}\n", env::current_exe().unwrap().display());
    for (k, v) in env::vars() {
        if !v.contains('\n') {
            text.push_str(&format!("{k}={v}\n"));
        }
    }
    std::fs::write(file, text).unwrap();
}
