//! build.rs of the benchmark's scratch consumer crate for cuda-build (copied by benches/build/).
//! BENCH_CAPTURE=FILE: record cargo's environment and this program's path, compile nothing.
//! BENCH_MODE=ptx|fatbin|static with BENCH_KERNELS=DIR and BENCH_FLAGS="nvcc flags": compile.
//! Unset: only link the crate (the dependency-cost table).
use std::env;
use std::io::Write;

fn main() {
    if let Ok(file) = env::var("BENCH_CAPTURE") {
        capture(&file);
        return;
    }
    let mode = env::var("BENCH_MODE").unwrap_or_default();
    if mode.is_empty() {
        // Keep the API linked in even when nothing is compiled.
        std::hint::black_box(cuda_build::Probe::new as fn() -> cuda_build::Probe);
        return;
    }
    let dir = env::var("BENCH_KERNELS").expect("BENCH_KERNELS");
    let cuda = cuda_build::Probe::new().find_or_exit();
    let mut k = cuda.kernels();
    k.dir(&dir).arch("75").lineinfo(false);
    for f in env::var("BENCH_FLAGS").unwrap_or_default().split_whitespace() {
        k.flag(f);
    }
    match mode.as_str() {
        "ptx" => k.ptx(),
        "fatbin" => k.fatbin(),
        "static" => k.static_lib("bench"),
        other => panic!("BENCH_MODE={other}"),
    };
    let compiled = k.compile_or_exit();
    if let Ok(report) = env::var("BENCH_REPORT") {
        let mut f = std::fs::File::create(report).unwrap();
        for kernel in &compiled.kernels {
            writeln!(f, "{} {}", kernel.recompiled, kernel.source.display()).unwrap();
        }
    }
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
