use cuda_build::{Cudart, Probe};

fn main() {
    let mut cuda = Probe::new().find_or_exit();
    // A .cu kernel and a host C++ file (Kernels::file takes any file nvcc compiles) in one
    // static library, linked with the shared runtime: Kernels::cudart adds its rpath.
    cuda.kernels().dir("kernels").file("host/runtime.cpp").static_lib("app").cudart(Cudart::Shared).compile_or_exit();
    if std::env::var_os("CARGO_FEATURE_KERNELS_ONLY").is_some() {
        cuda.emit_or_exit();
    } else {
        // The same runtime asked for again by the build script: still one link line.
        cuda.link_cudart(Cudart::Shared).rpath(true).emit_or_exit();
    }
}
