//! build.rs of the benchmark's scratch consumer crate for cudaforge (copied by benches/build/).
//! Set up as its README suggests: source_dir() over the kernels, the .cuh files as watch()
//! paths (so a header edit is noticed at all), compute_cap(75), extra args from BENCH_FLAGS.
//! Its default parallelism is 50% of the cores; CUDAFORGE_THREADS overrides it.
use std::env;
use std::path::PathBuf;

fn main() {
    if let Ok(file) = env::var("BENCH_CAPTURE") {
        capture(&file);
        return;
    }
    let mode = env::var("BENCH_MODE").unwrap_or_default();
    if mode.is_empty() {
        std::hint::black_box(cudaforge::KernelBuilder::new as fn() -> cudaforge::KernelBuilder);
        return;
    }
    assert_eq!(mode, "ptx", "cudaforge is benchmarked in PTX mode only");
    let dir = PathBuf::from(env::var("BENCH_KERNELS").expect("BENCH_KERNELS"));
    let mut headers: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "cuh"))
        .collect();
    headers.sort();
    let mut b = cudaforge::KernelBuilder::new().source_dir(&dir).watch(headers).compute_cap(75);
    for f in env::var("BENCH_FLAGS").unwrap_or_default().split_whitespace() {
        b = b.arg(f);
    }
    let out = b.build_ptx().unwrap();
    out.write(PathBuf::from(env::var("OUT_DIR").unwrap()).join("kernels.rs")).unwrap();
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
