use cuda_build::{Cudart, Probe};

fn main() {
    // libtorch as torch-sys linked it (DEP_TCH_LIBTORCH_LIB); the build stops here if its
    // CUDA major differs from the toolkit's, as PyTorch's cpp_extension would.
    let mut cuda = Probe::new().libtorch(true).find_or_exit();
    // kernels/*.cu -> libtorch_ext.a, linked with the shared cudart as PyTorch's extensions
    // are: one libcudart.so.N in the process, shared with libtorch_cuda (its directory goes
    // on the rpath, so the binary starts without LD_LIBRARY_PATH).
    cuda.kernels().dir("kernels").static_lib("torch_ext").cudart(Cudart::Shared).compile_or_exit();
    // Keep libtorch_cuda loaded, so tch::Cuda::is_available() can be true.
    cuda.link_libtorch_cuda();
    cuda.emit_or_exit();
    // What was checked, for the binary to print.
    let torch = cuda.libtorch().map(|lt| {
        let cu = lt.cuda.map_or("CPU-only".to_owned(), |c| format!("CUDA {}.{}", c.major, c.minor));
        format!("libtorch {} ({cu}) found by {}", lt.version.as_deref().unwrap_or("?"), lt.rule)
    });
    println!("cargo::rustc-env=TCH_EXT_BUILD=toolkit CUDA {}; {}", cuda.version(), torch.unwrap_or_default());
}
